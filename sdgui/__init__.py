"""sdgui: local and cloud volumes side by side, with verified copy jobs."""

__version__ = "0.1.0"
