"""What crosses the wire between the editor and this server, besides LSP itself:
the ``attune.server.*`` command ids, the ``attune/*`` requests and notifications and the error
code for a request that was valid but failed. Clients (the VS Code extension's
``common/constants.ts``) use the same strings.

Cheap to import on purpose: the server registers every command before its
``initialize`` reply, and that start is benchmarked. The commands' argument models
(pydantic) are in ``arguments`` and load with the first command.
"""

from __future__ import annotations

from pygls.exceptions import JsonRpcException

SETUP_AUTH = "attune.server.setupAuth"
RESET_AUTH = "attune.server.resetAuth"
RESTORE_AUTH = "attune.server.restoreAuth"
AUTH_STATUS = "attune.server.authStatus"
RECOMMEND = "attune.server.recommend"
SHOW_DETAILS = "attune.server.showDetails"
COUNT_TOKENS = "attune.server.countTokens"
BREAKER_STATUS = "attune.server.breakerStatus"
RESET_BREAKER = "attune.server.resetBreaker"
PREVIEW_TASK = "attune.server.previewTask"
RUN_TASK = "attune.server.runTask"
# The client command a "Run…" lens carries: the editor picks the task and confirms the
# cost before anything is sent (VS Code: a QuickPick, then a modal preview).
RUN_TASK_CLIENT = "attune.runTask"

BREAKER_STATUS_NOTIFICATION = "attune/breakerStatus"
USAGE_NOTIFICATION = "attune/usage"
API_SPEND_NOTIFICATION = "attune/apiSpend"  # the user's API spend today, from telemetry (spend_view)
# The workspace overview: the request for its data, and "ask again" after a save or a
# strategy change (see overview_view).
WORKSPACE_SUMMARY = "attune/workspaceSummary"
WORKSPACE_CHANGED_NOTIFICATION = "attune/workspaceChanged"


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed (-32803): the arguments were fine, the operation was not."""

    CODE = -32803
    MESSAGE = "Request failed"
