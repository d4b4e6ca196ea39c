package bulk

// MaxBatch is how many pending records make the journal write at once.
const MaxBatch = maxBatch
