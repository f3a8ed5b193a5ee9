"""Connections to the messaging platform (WeCom): the enterprise's app credentials and the pull of its
member and admin operation records into an appeal's evidence. Reads several capabilities."""
