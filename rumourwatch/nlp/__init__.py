"""Models: tokenizer, rumour model, the model bundle that holds every scoring component."""
