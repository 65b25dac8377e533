"""TensorFlow BERT checkpoint to PyTorch conversion, step by step, with a parity check.

Importing this package imports neither torch nor TensorFlow: the modules that
need them (bert_torch, bert_tf, checkpoint, convert, parity, demo) import them
themselves, and the UI uses only events, config, source and report.
"""
