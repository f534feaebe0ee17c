"""The APIs the gateway speaks. Each dialect parses a body into the backend contract
(`ChatRequest`) and renders answers, stream events and errors in its own format, so the
pipeline in between is written once."""
