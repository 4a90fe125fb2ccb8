"""deskterm: one keyboard-driven inbox for every channel an e-commerce seller answers."""

__version__ = "0.1.0"
