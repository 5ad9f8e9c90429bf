"""What the tests share besides fixtures: builders of rows and files, and small checks.

Fixtures live in conftest.py (the standing cast in tests/conftest.py); a test module imports
from here, never from another test module.
"""
