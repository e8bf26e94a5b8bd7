"""Documents x rules -> findings.  Pure: no file, process or network I/O; never imports ``inputs`` or ``policy``."""
