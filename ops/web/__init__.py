"""The voter page served and checked: its integrity facts, its static origin, the observer's check."""
