"""Services: one function per use case, taking plain values and a unit of work."""
