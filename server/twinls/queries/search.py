"""(placeholder: the search queries register here)"""
