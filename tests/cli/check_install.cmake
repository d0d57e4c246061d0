# `cmake --install` gives a heed that finds its default model beside itself, wherever the
# install prefix is moved, with no path into the source or build tree compiled in.
# -DBUILD_DIR, -DWORK_DIR, -DSOURCE_DIR, -DSANITIZE.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install exited ${rc}: ${out} ${err}")
endif()
foreach(installed bin/heed share/heed/en-de.heed)
  if(NOT EXISTS ${WORK_DIR}/prefix/${installed})
    message(FATAL_ERROR "cmake --install did not install ${installed}")
  endif()
endforeach()

# Move the prefix: a path compiled in would now point nowhere.
file(RENAME ${WORK_DIR}/prefix ${WORK_DIR}/moved)
file(WRITE ${WORK_DIR}/in.txt "A man is riding a bicycle.\n")
file(MAKE_DIRECTORY ${WORK_DIR}/elsewhere)
execute_process(COMMAND ${WORK_DIR}/moved/bin/heed translate -i ${WORK_DIR}/in.txt WORKING_DIRECTORY ${WORK_DIR}/elsewhere
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^[^\n]*Mann[^\n]*\n$" OR NOT err MATCHES "moved/share/heed/en-de.heed")
  message(FATAL_ERROR "the installed heed translate: exit ${rc}, stdout '${out}', stderr '${err}'")
endif()

# (The sanitizers' reports embed source file names, so this check is for ordinary builds.)
if(NOT SANITIZE)
  file(STRINGS ${WORK_DIR}/moved/bin/heed compiled_in REGEX "${SOURCE_DIR}|${BUILD_DIR}")
endif()
if(compiled_in)
  message(FATAL_ERROR "the installed binary holds paths of the source or build tree: ${compiled_in}")
endif()

# Without its model beside it, heed says where it looked and how to name another.
file(REMOVE ${WORK_DIR}/moved/share/heed/en-de.heed)
execute_process(COMMAND ${WORK_DIR}/moved/bin/heed translate -i ${WORK_DIR}/in.txt
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1 OR NOT err MATCHES "default model .*moved/share/heed/en-de.heed is missing")
  message(FATAL_ERROR "heed without its default model: exit ${rc}, stdout '${out}', stderr '${err}'")
endif()
