import math

import pytest

from shapes import Circle, Square, total_area


def test_square():
    assert Square(3).area() == 9


def test_circle():
    assert Circle(1).area() == pytest.approx(math.pi)


@pytest.mark.parametrize("sides,expected", [([1, 2], 5), ([3], 9)])
def test_total(sides, expected):
    assert total_area([Square(s) for s in sides]) == expected
