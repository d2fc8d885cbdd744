"""The pure core: rules, assignment and indicator over pandas frames. No Excel, no SQL."""
