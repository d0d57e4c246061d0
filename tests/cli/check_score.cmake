# heed score against sacreBLEU 2.6.0's own output (tests/fixtures/score, made by
# tools/make_score_fixtures.sh). Only the version field of the signature may differ.

foreach(fixture score score-unicode)
  set(dir ${FIXTURES}/${fixture})
  foreach(variant default lowercase tokenize-none tokenize-intl intl-lowercase)
    set(args "")
    if(variant STREQUAL "lowercase")
      set(args --lowercase)
    elseif(variant STREQUAL "tokenize-none")
      set(args --tokenize none)
    elseif(variant STREQUAL "tokenize-intl")
      set(args --tokenize intl)
    elseif(variant STREQUAL "intl-lowercase")
      set(args --tokenize intl --lowercase --chrf-lowercase)
    endif()
    execute_process(COMMAND ${HEED} -q score -m bleu,chrf -r ${dir}/ref.txt -i ${dir}/hyp.txt ${args}
                    OUTPUT_VARIABLE actual RESULT_VARIABLE rc)
    file(READ ${dir}/expected-${variant}.txt expected)
    string(REGEX REPLACE "version:[^ ]*" "version:X" actual "${actual}")
    string(REGEX REPLACE "version:[^ ]*" "version:X" expected "${expected}")
    if(NOT rc EQUAL 0 OR NOT actual STREQUAL expected)
      message(FATAL_ERROR "heed score (${fixture}, ${variant}) differs from sacreBLEU:\nheed:\n${actual}\nsacreBLEU:\n${expected}")
    endif()
  endforeach()
endforeach()
set(dir ${FIXTURES}/score)

# Standard input works as the hypothesis, and a line-count mismatch is an error naming both.
execute_process(COMMAND ${HEED} -q score -r ${dir}/ref.txt INPUT_FILE ${dir}/hyp.txt OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^BLEU\\|")
  message(FATAL_ERROR "heed score from stdin: exit ${rc}, '${out}'")
endif()
execute_process(COMMAND ${HEED} score -r ${dir}/ref.txt -i ${dir}/expected-default.txt OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1 OR NOT err MATCHES "expected-default.txt has 2 lines but the reference .*ref.txt has 263")
  message(FATAL_ERROR "heed score with mismatched files: exit ${rc}, '${err}'")
endif()

# AER from the command line: a hand-computed case (see tests/unit/test_aer.cpp), one-based gold.
file(MAKE_DIRECTORY ${WORK_DIR})
file(WRITE ${WORK_DIR}/gold.talp "1-1 2p2 3-3\n")
file(WRITE ${WORK_DIR}/links.txt "0-0 1-1 2-1\n")
execute_process(COMMAND ${HEED} score -m aer --gold ${WORK_DIR}/gold.talp --one-based -i ${WORK_DIR}/links.txt
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^AER = 40.00 \\(precision 66.67, recall 50.00; 1 sentences")
  message(FATAL_ERROR "heed score -m aer: exit ${rc}, '${out}' ${err}")
endif()
