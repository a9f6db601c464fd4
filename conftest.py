"""Repository-wide pytest setup (``tests/`` and ``bench/tests/``): the CI no-skip switch."""

pytest_plugins = ["tests.noskip"]
