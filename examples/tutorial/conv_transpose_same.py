# example of using padding to ensure that the output is only doubled
from numpy import asarray, ones
from upgan.keras.models import Sequential
from upgan.keras.layers import Conv2DTranspose
# define input data
X = asarray([[1, 2],
			 [3, 4]])
# show input data for context
print(X)
# reshape input data into one sample a sample with a channel
X = X.reshape((1, 2, 2, 1))
# define model
model = Sequential()
model.add(Conv2DTranspose(1, (3,3), strides=(2,2), padding='same', input_shape=(2, 2, 1)))
# summarize the model
model.summary()
# define weights: every kernel tap 1, so each output sums the inputs it overlaps
weights = [ones((3, 3, 1, 1)), asarray([0])]
# store the weights in the model
model.set_weights(weights)
# make a prediction with the model
yhat = model.predict(X)
# reshape output to remove channel to make printing easier
yhat = yhat.reshape((4, 4))
# summarize output
print(yhat)
