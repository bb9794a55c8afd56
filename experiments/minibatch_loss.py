"""The chapter study `minibatch_loss` as a script.

The same as `scratchnet-chapter minibatch_loss`; its code is in scratchnet.cli.studies.
"""

from scratchnet.cli.studies import run_study

if __name__ == "__main__":
    run_study("minibatch_loss")
