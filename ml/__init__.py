"""Machine learning: features, training, MLflow registry, prediction, embeddings and search."""
