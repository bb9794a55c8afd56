"""The chapter study `gradient_descent` as a script.

The same as `scratchnet-chapter gradient_descent`; its code is in scratchnet.cli.studies.
"""

from scratchnet.cli.studies import run_study

if __name__ == "__main__":
    run_study("gradient_descent")
