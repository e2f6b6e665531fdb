/** The name of our broker's target: every other row's ratio is taken against it. */
export const OUR_TARGET = 'rocketmq-ts';
