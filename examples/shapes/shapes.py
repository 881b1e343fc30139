"""A tiny workspace for trying twinls: shapes with an `area` to implement."""

import math


class Shape:
    def area(self) -> float:
        raise NotImplementedError


class Square(Shape):
    def __init__(self, side: float) -> None:
        self.side = side

    def area(self) -> float:
        return self.side**2


class Circle(Shape):
    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        return math.pi * self.radius**2


def example_unit_square() -> Square:
    """An example: run it from its lens and see the object it builds."""
    return Square(1)


def total_area(shapes: list[Shape]) -> float:
    """The sum of the areas.

    >>> total_area([Square(2), Square(3)])
    13
    """
    return sum(s.area() for s in shapes)
