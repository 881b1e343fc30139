"""(placeholder: the run queries register here)"""
