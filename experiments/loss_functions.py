"""The chapter study `loss_functions` as a script.

The same as `scratchnet-chapter loss_functions`; its code is in scratchnet.cli.studies.
"""

from scratchnet.cli.studies import run_study

if __name__ == "__main__":
    run_study("loss_functions")
