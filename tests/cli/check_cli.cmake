# Runs the heed binary (-DHEED=path) and checks its command-line contract.

execute_process(COMMAND ${HEED} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "heed --help exited ${rc}")
endif()
foreach(sub vocab train translate align score bench info convert average)
  string(FIND "${help}" "  ${sub} " at)
  if(at EQUAL -1)
    message(FATAL_ERROR "heed --help does not list '${sub}':\n${help}")
  endif()
endforeach()

execute_process(COMMAND ${HEED} --version OUTPUT_VARIABLE version RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT version MATCHES "^heed [0-9]+\\.[0-9]+\\.[0-9]+\n" OR NOT version MATCHES "\noneDNN [0-9]+\\.[0-9]+"
   OR NOT version MATCHES "\nCPU: [^\n]+, [0-9]+ hardware threads\n" OR NOT version MATCHES "\nkernels: (SSE|AVX|Intel AMX)")
  message(FATAL_ERROR "heed --version exited ${rc} and printed '${version}'")
endif()

# heed info on a real model file: the report on stdout, nothing on stderr at --quiet.
file(MAKE_DIRECTORY ${WORK_DIR})
execute_process(COMMAND ${MAKE_MODEL} ${WORK_DIR}/tiny.heed ${DATA_DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "make_test_model exited ${rc}")
endif()
execute_process(COMMAND ${HEED} -q info ${WORK_DIR}/tiny.heed OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "parameters    [0-9]+" OR NOT out MATCHES "checksum      [0-9a-f]+" OR NOT err STREQUAL "")
  message(FATAL_ERROR "heed info: exit ${rc}, stdout '${out}', stderr '${err}'")
endif()

# A damaged model is one line on stderr naming the file, and exit 1.
file(WRITE ${WORK_DIR}/foreign.heed "not a model at all\n")
execute_process(COMMAND ${HEED} info ${WORK_DIR}/foreign.heed OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1 OR NOT out STREQUAL "" OR NOT err MATCHES "foreign.heed is not a heed model file")
  message(FATAL_ERROR "heed info on a foreign file: exit ${rc}, stdout '${out}', stderr '${err}'")
endif()

# train --init takes the model's architecture: an architecture option beside it is refused, not ignored.
execute_process(COMMAND ${HEED} train --init ${WORK_DIR}/tiny.heed --model-dim 64 -o ${WORK_DIR}/init-run
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1 OR NOT err MATCHES "tiny.heed brings its architecture: do not give --model-dim")
  message(FATAL_ERROR "heed train --init with --model-dim: exit ${rc}, stderr '${err}'")
endif()

# A bad global option is a usage error, not a crash or a silent run.
execute_process(COMMAND ${HEED} --threads -3 bench ops OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0 OR NOT err MATCHES "threads")
  message(FATAL_ERROR "heed --threads -3: exit ${rc}, stderr '${err}'")
endif()

# No subcommand is a usage error.
execute_process(COMMAND ${HEED} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0)
  message(FATAL_ERROR "heed without a subcommand exited 0")
endif()

# translate: exactly one output line per input line, whatever the lines hold.
# fixtures/translate/mixed.txt: a sentence, an empty line, a whitespace-only line, a long line
# with non-Latin text, a line with invalid UTF-8, and a last line without a newline.
set(mixed ${FIXTURES}/translate/mixed.txt)
execute_process(COMMAND ${HEED} -q translate -m ${WORK_DIR}/tiny.heed -i ${mixed} --max-input-length 4
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
string(REGEX MATCHALL "\n" newlines "${out}")
list(LENGTH newlines count)
if(NOT rc EQUAL 0 OR NOT count EQUAL 6)
  message(FATAL_ERROR "heed translate wrote ${count} lines for 6 (exit ${rc}):\n${out}\n${err}")
endif()

# align: one line per pair whatever the pairs hold (the mixed lines against themselves), Pharaoh
# links within each side's word count; mismatched sides are an error before anything is written.
execute_process(COMMAND ${HEED} -q align -m ${WORK_DIR}/tiny.heed --src ${mixed} --tgt ${mixed}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
string(REGEX MATCHALL "\n" newlines "${out}")
list(LENGTH newlines count)
if(NOT rc EQUAL 0 OR NOT count EQUAL 6 OR NOT out MATCHES "^([0-9]+-[0-9]+ )*[0-9]+-[0-9]+\n")
  message(FATAL_ERROR "heed align wrote ${count} lines for 6 (exit ${rc}):\n${out}\n${err}")
endif()
file(WRITE ${WORK_DIR}/two.txt "A dog.\nA cat.\n")
execute_process(COMMAND ${HEED} align -m ${WORK_DIR}/tiny.heed --src ${mixed} --tgt ${WORK_DIR}/two.txt
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1 OR NOT out STREQUAL "" OR NOT err MATCHES "mixed.txt has 6 lines but .*two.txt has 2")
  message(FATAL_ERROR "heed align with mismatched sides: exit ${rc}, stdout '${out}', stderr '${err}'")
endif()

# --strict: invalid UTF-8 stops everything before a line is written.
execute_process(COMMAND ${HEED} translate -m ${WORK_DIR}/tiny.heed -i ${mixed} --strict
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1 OR NOT out STREQUAL "" OR NOT err MATCHES "line 5: invalid UTF-8")
  message(FATAL_ERROR "heed translate --strict: exit ${rc}, stdout '${out}', stderr '${err}'")
endif()

# --n-best: Moses-style lines, K per input line.
file(WRITE ${WORK_DIR}/two.txt "A dog.\nA cat.\n")
execute_process(COMMAND ${HEED} -q translate -m ${WORK_DIR}/tiny.heed -i ${WORK_DIR}/two.txt --n-best 3
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
string(REGEX MATCHALL "[01] \\|\\|\\| [^\n]* \\|\\|\\| -?[0-9.]+\n" entries "${out}")
list(LENGTH entries count)
if(NOT rc EQUAL 0 OR NOT count EQUAL 6)
  message(FATAL_ERROR "heed translate --n-best 3: exit ${rc}, ${count} entries:\n${out}")
endif()

# --alignments: each line gets " ||| " and its links, n-best lines too.
execute_process(COMMAND ${HEED} -q translate -m ${WORK_DIR}/tiny.heed -i ${WORK_DIR}/two.txt --alignments --n-best 2
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
string(REGEX MATCHALL "[01] \\|\\|\\| [^\n]* \\|\\|\\| -?[0-9.]+ \\|\\|\\| [0-9 -]*\n" entries "${out}")
list(LENGTH entries count)
if(NOT rc EQUAL 0 OR NOT count EQUAL 4)
  message(FATAL_ERROR "heed translate --alignments --n-best 2: exit ${rc}, ${count} entries:\n${out}")
endif()

# A line of two sentences gives one line, and the shipped model warns of text unlike its
# training text (its stored source-pieces-per-word), but not of a caption.
file(WRITE ${WORK_DIR}/two-sentences.txt "A man is riding a bicycle. Two dogs play in the snow!\n")
execute_process(COMMAND ${HEED} translate -m ${DATA_DIR}/en-de.heed -i ${WORK_DIR}/two-sentences.txt
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
string(REGEX MATCHALL "\n" newlines "${out}")
list(LENGTH newlines count)
if(NOT rc EQUAL 0 OR NOT count EQUAL 1 OR NOT err MATCHES "1 of several sentences" OR err MATCHES "looks unlike")
  message(FATAL_ERROR "heed translate of two sentences: exit ${rc}, ${count} lines:\n${out}\n${err}")
endif()
file(WRITE ${WORK_DIR}/news.txt "Quantum chromodynamics lattice simulations require substantial supercomputing infrastructure.\n")
execute_process(COMMAND ${HEED} -q translate -m ${DATA_DIR}/en-de.heed -i ${WORK_DIR}/news.txt
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT err MATCHES "looks unlike what the model learned from")
  message(FATAL_ERROR "heed translate of technical text: no warning (exit ${rc}):\n${out}\n${err}")
endif()
# The Hansards models, found by name: an everyday sentence and a parliamentary one translate, one
# line each, and `heed align -m en-fr --reverse-model fr-en` links them with the symmetrisation
# the models store (intersection), one line of links per pair.
file(WRITE ${WORK_DIR}/enfr.en "The meeting is postponed until next Tuesday.\nmr. speaker , the minister of finance has tabled the budget .\n")
execute_process(COMMAND ${HEED} -q translate -m ${DATA_DIR}/en-fr.heed -i ${WORK_DIR}/enfr.en
                OUTPUT_VARIABLE enfr_out ERROR_VARIABLE err RESULT_VARIABLE rc)
string(REGEX MATCHALL "\n" newlines "${enfr_out}")
list(LENGTH newlines count)
if(NOT rc EQUAL 0 OR NOT count EQUAL 2 OR NOT enfr_out MATCHES "mardi")
  message(FATAL_ERROR "heed translate -m en-fr: exit ${rc}, ${count} lines:\n${enfr_out}\n${err}")
endif()
file(WRITE ${WORK_DIR}/enfr.fr "${enfr_out}")
execute_process(COMMAND ${HEED} align -m ${DATA_DIR}/en-fr.heed --reverse-model ${DATA_DIR}/fr-en.heed
                --src ${WORK_DIR}/enfr.en --tgt ${WORK_DIR}/enfr.fr OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
string(REGEX MATCHALL "[0-9]+-[0-9]+[^\n]*\n" lines "${out}")
list(LENGTH lines count)
if(NOT rc EQUAL 0 OR NOT count EQUAL 2 OR NOT err MATCHES "symmetrised by intersection \\(the model's")
  message(FATAL_ERROR "heed align -m en-fr --reverse-model fr-en: exit ${rc}, ${count} lines:\n${out}\n${err}")
endif()
# heed convert --domain-text stores the figure the warning compares with.
execute_process(COMMAND ${HEED} -q convert -m ${WORK_DIR}/tiny.heed -o ${WORK_DIR}/tiny-domain.heed --domain-text ${WORK_DIR}/news.txt
                RESULT_VARIABLE rc)
execute_process(COMMAND ${HEED} info ${WORK_DIR}/tiny-domain.heed OUTPUT_VARIABLE out RESULT_VARIABLE info_rc)
if(NOT rc EQUAL 0 OR NOT info_rc EQUAL 0 OR NOT out MATCHES "source-pieces-per-word=[0-9]+\\.[0-9][0-9][0-9]")
  message(FATAL_ERROR "heed convert --domain-text: exit ${rc}\n${out}")
endif()

# heed bench attention at two short lengths: every case measured (in child processes), the
# slopes row, and the plot written.
execute_process(COMMAND ${HEED} -q bench attention --lengths 64,160 --repeats 1 --svg ${WORK_DIR}/attention.svg
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\\| 160 \\|( [0-9.]+ \\| [0-9]+ \\|)+\n" OR NOT out MATCHES "slope"
   OR NOT out MATCHES "window-256 ms" OR NOT EXISTS ${WORK_DIR}/attention.svg)
  message(FATAL_ERROR "heed bench attention: exit ${rc}\n${out}\n${err}")
endif()

# heed bench model on a toy batch: the table and the per-op profile, on stdout.
execute_process(COMMAND ${HEED} -q bench model --attention dot --precision f32,bf16 --batch 2 --source-length 3 --target-length 4 --repeats 1
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\\| dot \\| f32 \\| [0-9]+ \\|" OR NOT out MATCHES "\\| matmul \\|")
  message(FATAL_ERROR "heed bench model: exit ${rc}\n${out}\n${err}")
endif()
