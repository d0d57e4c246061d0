#pragma once
// Ctrl-C (SIGINT) and SIGTERM ask a long job to stop at the next safe point (training saves a
// checkpoint first). A second Ctrl-C ends the process at once.

namespace heed {

void install_stop_handlers();
bool stop_requested();
void request_stop();        // what the handlers do; also for tests
void clear_stop_request();  // for tests: forget an earlier request

}  // namespace heed
