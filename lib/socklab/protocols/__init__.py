"""Small line protocols the course's servers speak, with reference servers and clients.

- :mod:`socklab.protocols.chat`: a chat room (each line relayed to every other member).
"""
__all__ = ["chat"]
