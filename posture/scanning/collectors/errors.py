class CollectionError(Exception):
    """The cluster could not be read at all. The message is one line for the user;
    details go to the logs where the error is raised."""
