"""The chapter study `why_loss_not_accuracy` as a script.

The same as `scratchnet-chapter why_loss_not_accuracy`; its code is in scratchnet.cli.studies.
"""

from scratchnet.cli.studies import run_study

if __name__ == "__main__":
    run_study("why_loss_not_accuracy")
