"""Engine "transformers": Hugging Face ``generate`` on planned batches, in this rank's process
(``engine.py``; one experiment's run in ``experiment_run.py``, model reuse in ``session.py``)."""
