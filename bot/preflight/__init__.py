"""Pre-flight checks of a training file: its problems, its token counts and what training it would cost."""
