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
