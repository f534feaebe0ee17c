"""One module per rendered format; each is a pure function from a Plan to text."""
