"""(placeholder: `twinls implementors` / `twinls references` register here)"""
