"""Runtime hook of the bundle, in place of PyInstaller's PySide6 hook: where Qt finds its plugins, without loading Qt.

PyInstaller's own hook imports ``PySide6.QtCore`` at start-up (to see whether a ``qt.conf`` must be made up; the
PyPI wheels' Qt is relocatable and needs none), which cost every ``sdgui`` command, Qt or not, about 70 ms before
its first request. The window imports Qt when it opens; the command line never does.
"""

import os
import sys

_qt = os.path.join(sys._MEIPASS, "PySide6", "Qt")  # sys._MEIPASS: the bundle's folder, set by the bootloader
os.environ["QT_PLUGIN_PATH"] = os.path.join(_qt, "plugins")
os.environ["QML2_IMPORT_PATH"] = os.path.join(_qt, "qml")
del _qt
