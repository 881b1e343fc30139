"""(placeholder: `twinls run` registers here)"""
