"""Reference implementations of the small protocols chapter 4 builds: the struct-packed network
calculator (:mod:`socklab.protocols.calc`), length-prefixed framing (:mod:`socklab.protocols.framing`)
and a line-based command protocol (:mod:`socklab.protocols.lines`).

Each module has the protocol's rules as functions, a reference server, and a reference client that
grade cells use to talk to a student's program (often through a :class:`socklab.relay.Relay`).
"""
