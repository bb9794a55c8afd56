"""The foundation every layer may use: errors, value checks, paths, interrupts, PNG bytes."""
