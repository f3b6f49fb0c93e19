"""crosscheck: build the identical network in TensorFlow/Keras and compare quantity by quantity."""
