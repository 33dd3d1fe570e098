"""Technology standard: images, labels, API versions and container resources."""
