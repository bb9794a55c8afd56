"""The chapter study `numerical_differentiation` as a script.

The same as `scratchnet-chapter numerical_differentiation`; its code is in scratchnet.cli.studies.
"""

from scratchnet.cli.studies import run_study

if __name__ == "__main__":
    run_study("numerical_differentiation")
