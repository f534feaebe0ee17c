"""Backends against real parts: the stub upstream over real HTTP, the packaged SmolLM2
model and all-MiniLM-L6-v2 on this machine's CPU."""
