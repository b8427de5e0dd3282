# Logistic regression with MesaPy's micronumpy. Arguments: operation ("train" or
# "predict"), params_saved and scaler_saved (slot names of the model files), and
# train_file or predict_file. Training scales each feature to [0, 1] by the training
# minimum and maximum, runs 2000 steps of batch gradient descent with learning rate 0.05
# and saves the weights and the scaler as marshal dumps. Prediction returns the predicted
# class of each row as a float array.
import marshal

from _numpypy import multiarray as np
from _numpypy import umath
from teaclave import open

ITERATIONS = 2000
LEARNING_RATE = 0.05


def read_rows(slot):
    rows = []
    with open(slot, "rb") as f:
        for line in f.readlines():
            line = line.strip()
            if line:
                rows.append([float(x) for x in line.split(",")])
    return rows


def sigmoid(z):
    return 1.0 / (1.0 + umath.exp(-z))


def scale(features, low, span):
    return (features - low) / span


def train(args):
    rows = read_rows(args["train_file"])
    features = np.array([row[:-1] for row in rows])
    labels = np.array([row[-1] for row in rows])
    low = features.min(axis=0)
    span = np.array([x if x > 0 else 1.0 for x in (features.max(axis=0) - low).tolist()])
    x = scale(features, low, span)
    count = float(len(rows))
    weights = np.zeros(x.shape[1])
    bias = 0.0
    x_t = x.T
    for _ in range(ITERATIONS):
        error = sigmoid(x.dot(weights) + bias) - labels
        weights = weights - x_t.dot(error) * (LEARNING_RATE / count)
        bias = bias - LEARNING_RATE * error.sum() / count
    with open(args["params_saved"], "wb") as f:
        f.write(marshal.dumps(weights.tolist() + [bias]))
    with open(args["scaler_saved"], "wb") as f:
        f.write(marshal.dumps([low.tolist(), span.tolist()]))
    return "Trained %d lines of data." % len(rows)


def predict(args):
    with open(args["params_saved"], "rb") as f:
        params = marshal.loads(f.read())
    with open(args["scaler_saved"], "rb") as f:
        low, span = marshal.loads(f.read())
    x = scale(np.array(read_rows(args["predict_file"])), np.array(low), np.array(span))
    probabilities = sigmoid(x.dot(np.array(params[:-1])) + params[-1])
    return str(probabilities > 0.5)


def entrypoint(argv):
    args = dict(zip(argv[0::2], argv[1::2]))
    if args["operation"] == "train":
        return train(args)
    return predict(args)
