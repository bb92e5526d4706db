"""The Textual user interface. Renders state and emits ops; holds no rules of its own."""
