"""Entry point of the namespace child: ``unshare -rn -- python -m socklab.packets._child``.

A separate module so that running it does not re-execute socklab.packets.namespace as __main__.
"""
from socklab.packets.namespace import _child_main

if __name__ == "__main__":
    _child_main()
