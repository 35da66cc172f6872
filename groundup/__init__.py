from groundup._version import __version__
