"""The published language of pubrev: topics, units and the event contracts (V1, V2, ...).

The only thing services share about each other. Within a version only additive changes;
anything else is a new `…V2` class on the same topic.
"""
