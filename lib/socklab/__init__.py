"""socklab."""
