# example of using transpose conv in a simple generator model
from upgan.keras.models import Sequential
from upgan.keras.layers import Dense
from upgan.keras.layers import Reshape
from upgan.keras.layers import Conv2DTranspose
from upgan.keras.layers import Conv2D
# define model
model = Sequential()
# define input shape, output enough activations for for 128 5x5 image
model.add(Dense(128 * 5 * 5, input_dim=100))
# reshape vector of activations into 128 feature maps with 5x5
model.add(Reshape((5, 5, 128)))
# double input from 128 5x5 to 1 10x10 feature map
model.add(Conv2DTranspose(1, (3,3), strides=(2,2), padding='same'))
# summarize model
model.summary()
