import rsim_a

print("backend", rsim_a.__version__)
