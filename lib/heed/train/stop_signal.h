#pragma once
// Ctrl-C (SIGINT) and SIGTERM ask a long job to stop at the next safe point (training saves a
// checkpoint first). A second Ctrl-C ends the process at once, removing a save's unfinished
// temporary file. A process stopped so exits with 128 + the signal (130, 143), as shells expect.

namespace heed {

void install_stop_handlers();
bool stop_requested();
int stop_signal_number();   // the signal that asked, or 0 (a request from code, or none)
void request_stop();        // what the handlers do; also for tests
void clear_stop_request();  // for tests: forget an earlier request

}  // namespace heed
