"""The class hierarchy both editor tests open: Go to Implementations lists
Square.area (line 10) and Circle.area (line 18)."""

SHAPES = """\
class Shape:
    def area(self):
        raise NotImplementedError


class Square(Shape):
    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side * self.side


class Circle(Shape):
    def __init__(self, r):
        self.r = r

    def area(self):
        return 3 * self.r * self.r
"""

#: The Debug runs of both editors (issue 17): on disk total() sums the values (the test
#: fails); each e2e edits the buffer, unsaved, to double them first (the test passes)
#: and breaks on line 3, a line only the editor has.
DEBUG_ME = """\
def total(values):
    return sum(values)
"""
TEST_DEBUG_ME = """\
from debug_me import total


def test_total():
    assert total([1, 2, 3]) == 12
"""
