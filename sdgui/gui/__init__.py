"""The desktop window: a thin Qt layer over sdgui.core."""
