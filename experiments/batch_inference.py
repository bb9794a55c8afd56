"""The chapter study `batch_inference` as a script.

The same as `scratchnet-chapter batch_inference`; its code is in scratchnet.cli.studies.
"""

from scratchnet.cli.studies import run_study

if __name__ == "__main__":
    run_study("batch_inference")
